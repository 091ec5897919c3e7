"""``mlrun.runtimes.nuclio.serving``: the serving sub-kind name."""

serving_subkind = "serving_v2"
