"""Routers: pick which model(s) answer a request.

- ``router``: ``ModelRouter``, one model per request, chosen by path or body (the default);
- ``base``: ``BaseRouter``, the base of routers that choose and combine models per request
  (override ``select_routes`` and ``merge``), answering under a name of its own;
- ``parallel``: ``ParallelRun``; ``ensemble``: ``VotingEnsemble``; ``bandit``:
  ``EpsilonGreedyRouter``, ``ThompsonSamplingRouter``; ``weighted``: ``WeightedRouter``;
- ``remote``: ``RemoteModel``, a model served elsewhere (``add_model(key, model_url=...)``).
"""
