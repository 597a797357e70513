"""Renders Home Assistant templates and runs blueprint logic with Jinja2, the
engine Home Assistant's templates are, for homeassistant_test.go.

It reads one JSON request on stdin and writes one JSON answer on stdout:

  {"render": [{"template": "...", "value": "<mqtt payload>"}]}
      -> {"rendered": ["..."]}            MQTT value templates (value, value_json)
  {"automation": {...}, "trigger": {...}}
      -> {"passed": bool, "calls": [{"action", "target", "data"}]}

The environment is what Home Assistant's is where these templates need it:
a sandbox that cannot mutate, to_json/from_json, the int filter's default,
variables rendered in order into native types, template conditions true
only when they render "true", and choose taking the first option whose
conditions all hold.
"""

import ast
import json
import sys

from jinja2.sandbox import ImmutableSandboxedEnvironment

env = ImmutableSandboxedEnvironment()
env.filters["to_json"] = lambda v: json.dumps(v, separators=(",", ":"))
env.filters["from_json"] = json.loads


def render(template, variables, native):
    out = env.from_string(template).render(**variables).strip()
    if not native:
        return out
    # Home Assistant parses a rendered variable or field into a Python
    # literal when it is one, and keeps the string otherwise.
    try:
        value = ast.literal_eval(out)
    except (ValueError, SyntaxError, TypeError, MemoryError):
        return out
    if isinstance(value, (str, complex)):
        return out
    return value


def render_complex(value, variables):
    if isinstance(value, str):
        if "{{" in value or "{%" in value:
            return render(value, variables, True)
        return value
    if isinstance(value, list):
        return [render_complex(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: render_complex(v, variables) for k, v in value.items()}
    return value


def condition(cond, variables):
    if isinstance(cond, str):
        cond = {"condition": "template", "value_template": cond}
    kind = cond["condition"]
    if kind == "template":
        return render(cond["value_template"], variables, False).lower() == "true"
    if kind == "trigger":
        ids = cond["id"] if isinstance(cond["id"], list) else [cond["id"]]
        return variables["trigger"].get("id") in ids
    raise ValueError("condition %r is not known to this test" % kind)


def conditions(conds, variables):
    if conds is None:
        return True
    if not isinstance(conds, list):
        conds = [conds]
    return all(condition(c, variables) for c in conds)


def run(actions, variables, calls):
    for step in actions:
        if "choose" in step:
            for option in step["choose"]:
                if conditions(option.get("conditions"), variables):
                    run(option["sequence"], variables, calls)
                    break
            else:
                run(step.get("default", []), variables, calls)
        elif "action" in step:
            calls.append({
                "action": step["action"],
                "target": render_complex(step.get("target", {}), variables),
                "data": render_complex(step.get("data", {}), variables),
            })
        else:
            raise ValueError("step %r is not known to this test" % step)


def automation(auto, trigger):
    variables = {"trigger": trigger}
    for name, value in (auto.get("variables") or {}).items():
        variables[name] = render_complex(value, variables)
    if not conditions(auto.get("conditions"), variables):
        return {"passed": False, "calls": []}
    calls = []
    run(auto.get("actions", []), variables, calls)
    return {"passed": True, "calls": calls}


def main():
    req = json.load(sys.stdin)
    if "render" in req:
        out = []
        for r in req["render"]:
            variables = {"value": r["value"]}
            try:
                variables["value_json"] = json.loads(r["value"])
            except ValueError:
                pass
            out.append(render(r["template"], variables, False))
        json.dump({"rendered": out}, sys.stdout)
    else:
        json.dump(automation(req["automation"], req["trigger"]), sys.stdout)


main()
