"""schemathesis hooks for benchmarks/fuzz_api.py: every 4xx must carry fieldops' JSON error body."""

import schemathesis


@schemathesis.check
def json_error_body(ctx, response, case):  # noqa: ANN001 - schemathesis' signature
    if 400 <= response.status_code < 500:
        try:
            body = response.json()
        except ValueError:
            raise AssertionError(f"{response.status_code} without a JSON body: {response.text[:120]!r}") from None
        if not isinstance(body, dict) or not isinstance(body.get("detail"), str) or "errors" not in body:
            raise AssertionError(f"{response.status_code} body is not {{'detail': …, 'errors': …}}: {body!r:.200}")
