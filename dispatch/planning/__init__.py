"""Planning: the engine's proposals for one request or a period (service), their reasons
in people's words (reasons) and the API (routes)."""

#: The longest a period's plan may search, in seconds: the API's `time_limit_s` and the
#: command line's `optimize --time-limit`. Someone waits for the answer, and past two
#: minutes the engine rarely finds a better week on this scale (bench/RESULTS.md).
MOST_PLAN_SECONDS = 120
