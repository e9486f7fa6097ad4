"""Run the development mail sink on every address: a container's loopback is its own.

Published on 127.0.0.1 only (compose.dev.yaml); the worker reaches it by name.
"""

import mailsink

mailsink.HOST = "0.0.0.0"
mailsink.main()
