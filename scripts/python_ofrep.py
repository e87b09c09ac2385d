"""Evaluates flags through the real Python OpenFeature OFREP provider (PyPI
`openfeature-provider-ofrep` 0.3.0 with `openfeature-sdk`), for the OFREP interop tests
(`examples/tests/python_ofrep.rs`).

    python scripts/python_ofrep.py < request.json

The request: {"base_url": ..., "token": ... | null, "cases": [{"flag", "type": "boolean" |
"string" | "integer" | "float" | "object", "default", "context": {"targetingKey", ..}}]}.
Prints one JSON list, a {"value", "reason", "variant", "error_code"} per case, in order.
"""

import json
import sys

from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext


def main() -> None:
    request = json.load(sys.stdin)
    token = request.get("token")
    headers = (lambda: {"Authorization": f"Bearer {token}"}) if token else None
    api.set_provider(OFREPProvider(request["base_url"], headers_factory=headers))
    client = api.get_client()
    readers = {
        "boolean": client.get_boolean_details,
        "string": client.get_string_details,
        "integer": client.get_integer_details,
        "float": client.get_float_details,
        "object": client.get_object_details,
    }
    answers = []
    for case in request["cases"]:
        context = dict(case.get("context") or {})
        key = context.pop("targetingKey", None)
        details = readers[case["type"]](
            case["flag"],
            case["default"],
            EvaluationContext(targeting_key=key, attributes=context),
        )
        answers.append(
            {
                "value": details.value,
                "reason": str(details.reason.value if hasattr(details.reason, "value") else details.reason),
                "variant": details.variant,
                "error_code": details.error_code.value if details.error_code else None,
            }
        )
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
