"""``mlrun.runtimes.nuclio``."""
