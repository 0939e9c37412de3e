"""Picture-wise JND: search strategies and predictors."""
