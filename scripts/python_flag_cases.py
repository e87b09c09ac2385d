"""Random flags, segments and contexts evaluated by the Python original's evaluator (PyPI
`waygate`, the version pinned in `scripts/python-server-env`), written as JSON for
`waygate-core/tests/python_flags.rs`, which evaluates the same with ours:

    "$(scripts/python-server-env)" scripts/python_flag_cases.py target/python-flag-cases.json
"""
import json, logging, random, sys
from waygate.core.feature_flags.models import FeatureFlag, Segment, EvaluationContext
from waygate.core.feature_flags.evaluator import FlagEvaluator

# Its evaluator warns on every semver comparison of a non-version: not ours to read.
logging.disable(logging.WARNING)

random.seed(7)
ops = ["is","is_not","contains","not_contains","starts_with","ends_with","matches","not_matches","gt","gte","lt","lte","before","after","in","not_in","semver_eq","semver_lt","semver_gt"]
vals = ["a","b","pro","1.2.0","2.0rc1","10","9.5",1,2.5,True,"ada@corp.com","^ad","corp$","2026-06-01"]
flags=[]
for i in range(60):
    rules=[]
    for r in range(random.randint(0,3)):
        clauses=[]
        for c in range(random.randint(0,2)):
            clauses.append({"attribute": random.choice(["a","b","email","key","kind","country"]), "operator": random.choice(ops),
                            "values": random.sample(vals, random.randint(1,3)), "negate": random.random()<0.2})
        rule={"id": f"r{i}-{r}", "clauses": clauses}
        if random.random()<0.7: rule["variation"]=random.choice(["on","off"])
        else: rule["rollout"]=[{"variation":"on","weight":random.randint(0,100000)},{"variation":"off","weight":100000}]
        rules.append(rule)
    ft = random.choice(["on","off",[{"variation":"on","weight":random.randint(0,100000)},{"variation":"off","weight":100000}]])
    f={"key": f"f{i}", "name": f"f{i}", "type":"boolean","variations":[{"name":"on","value":True},{"name":"off","value":False}],
       "off_variation":"off","fallthrough":ft,"enabled": random.random()<0.9, "rules": rules,
       "targets": {"on":["t1"]} if random.random()<0.3 else {},
       "prerequisites": [{"flag_key": f"f{i-1}", "variation": "on"}] if i>0 and random.random()<0.2 else []}
    if random.random()<0.2:
        f["rules"].append({"id": f"seg{i}", "clauses":[{"attribute":"key","operator":random.choice(["in_segment","not_in_segment"]),"values":["beta"]}],"variation":"on"})
    flags.append(f)
segments=[{"key":"beta","name":"Beta","included":["u1","u2"],"excluded":["u2"],"rules":[{"id":"s1","clauses":[{"attribute":"a","operator":"is","values":["pro"]}]}]}]
contexts=[]
for j in range(300):
    c={"key": random.choice(["u1","u2","t1",f"user-{j}"]), "kind": random.choice(["user","device"]), "attributes":{}}
    if random.random()<0.5: c["email"]=random.choice(["ada@corp.com","bob@x.org"])
    if random.random()<0.5: c["country"]=random.choice(["DE","FR"])
    for k in ["a","b"]:
        if random.random()<0.7: c["attributes"][k]=random.choice(vals+[None])
    contexts.append(c)
models={f["key"]: FeatureFlag.model_validate(f) for f in flags}
ev=FlagEvaluator({s["key"]: Segment.model_validate(s) for s in segments})
results=[]
for c in contexts:
    ctx=EvaluationContext.model_validate(c)
    row=[]
    for k,m in models.items():
        r=ev.evaluate(m, ctx, models)
        row.append([r.variation, str(r.reason.value if hasattr(r.reason,'value') else r.reason), r.rule_id])
    results.append(row)
# Bucketing: a 100-way rollout (1,000 buckets a share) over 10,000 keys, two kinds.
shares = [{"variation": f"v{n}", "weight": 1000} for n in range(100)]
bucketed = FeatureFlag.model_validate({
    "key": "bucketed", "name": "bucketed", "type": "string",
    "variations": [{"name": f"v{n}", "value": f"v{n}"} for n in range(100)],
    "off_variation": "v0", "fallthrough": shares})
rollout = []
for n in range(10_000):
    ctx = EvaluationContext(key=f"user-{n}", kind="user" if n % 2 else "organization")
    rollout.append([ctx.key, ctx.kind, ev.evaluate(bucketed, ctx, {"bucketed": bucketed}).variation])
json.dump({"flags": flags, "segments": segments, "contexts": contexts, "results": results,
           "bucketed": bucketed.model_dump(mode="json"), "rollout": rollout}, open(sys.argv[1], "w"))
print(f"{len(contexts) * len(flags)} evaluations written to {sys.argv[1]}")
