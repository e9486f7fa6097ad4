-- wrk script for the benchmark. With BENCH_FORM set, every request is a POST of
-- that form-encoded body (the login). At the end, one line of JSON with the
-- figures, for the driver to read.
local form = os.getenv("BENCH_FORM")
if form ~= nil and form ~= "" then
  wrk.method = "POST"
  wrk.body = form
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT {\"requests\": %d, \"duration_us\": %d, \"status\": %d, \"connect\": %d, "
      .. "\"read\": %d, \"write\": %d, \"timeout\": %d, \"mean_us\": %.1f, \"p99_us\": %d}\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency.mean, latency:percentile(99.0)))
end
