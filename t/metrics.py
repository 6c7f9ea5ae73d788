#!/usr/bin/python3
"""metrics.py - read a Prometheus text exposition, check it, print it flat.

Run by t/metrics.bats on the body of SNItch's GET /metrics.  The text is
parsed with prometheus_client's own parser (Debian: python3-prometheus-
client), so anything it refuses fails the test.  Checks, each a line on
stderr and exit status 1 when it fails:

  - every family has a HELP text and a TYPE, and every name starts with
    snitch_
  - a histogram's buckets are cumulative (never fewer at a larger le),
    the last is le="+Inf", and its _count equals that bucket
  - no two samples have the same name and labels

Then one line per sample on stdout, labels sorted by name:

    snitch_connections_total{alert="112",outcome="alert"} 2
    snitch_config_generation 1

values printed as integers when they are whole.
"""

import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def flat(name, labels):
    """flat - a sample's name and sorted labels, as one token"""
    if not labels:
        return name
    return name + "{" + ",".join(
        '%s="%s"' % (k, labels[k]) for k in sorted(labels)) + "}"


def number(v):
    """number - an integer when whole"""
    if math.isfinite(v) and v == int(v):
        return str(int(v))
    return repr(v)


def check_histogram(family, problems):
    """check_histogram - cumulative buckets ending at +Inf, _count"""
    buckets = [s for s in family.samples if s.name.endswith("_bucket")]
    counts = [s for s in family.samples if s.name.endswith("_count")]
    sums = [s for s in family.samples if s.name.endswith("_sum")]
    if not buckets or len(counts) != 1 or len(sums) != 1:
        problems.append("%s: want buckets, one _sum and one _count"
                        % family.name)
        return
    bounds = [float(s.labels["le"]) for s in buckets]
    if bounds != sorted(bounds) or bounds[-1] != math.inf:
        problems.append("%s: le not ascending to +Inf: %s"
                        % (family.name, bounds))
    values = [s.value for s in buckets]
    if any(b < a for a, b in zip(values, values[1:])):
        problems.append("%s: buckets not cumulative: %s"
                        % (family.name, values))
    if counts[0].value != values[-1]:
        problems.append("%s: _count %s but le=+Inf %s"
                        % (family.name, counts[0].value, values[-1]))


def main():
    """main - parse stdin, check, print"""
    text = sys.stdin.read()
    problems = []
    seen = set()
    lines = []
    typed = {l.split()[2] for l in text.splitlines()
             if l.startswith("# TYPE ")}
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("snitch_"):
            problems.append("%s: not snitch_" % family.name)
        if not family.documentation:
            problems.append("%s: no HELP" % family.name)
        if family.type == "unknown" or not any(
                t == family.name or t.startswith(family.name + "_")
                for t in typed):
            problems.append("%s: no TYPE" % family.name)
        if family.type == "histogram":
            check_histogram(family, problems)
        for s in family.samples:
            key = flat(s.name, s.labels)
            if key in seen:
                problems.append("%s: twice" % key)
            seen.add(key)
            lines.append("%s %s" % (key, number(s.value)))
    for p in problems:
        print("metrics.py: " + p, file=sys.stderr)
    print("\n".join(lines))
    return 1 if problems or not lines else 0


if __name__ == "__main__":
    sys.exit(main())
