"""The ml worker module: machine-learning jobs with scikit-learn, on the `ml` queue."""
