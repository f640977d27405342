#!/usr/bin/env python3
"""Inclusive CPU share by component from a JFR recording's execution samples: for each sample, every component
(package prefix) that appears anywhere on its stack is counted once. Answers "how much of the time is spent
under Micrometer / Jackson / Spring WebFlux / Netty / our code", which flat top-frame lists do not.

    jfr-inclusive.py recording.jfr [jfr-binary]
"""
import collections, re, subprocess, sys

COMPONENTS = [
    ("micrometer/observation", ("io.micrometer.",)),
    ("jackson", ("tools.jackson.", "com.fasterxml.jackson.")),
    ("spring web (webflux + web)", ("org.springframework.web.", "org.springframework.http.")),
    ("spring boot actuator/metrics glue", ("org.springframework.boot.",)),
    ("reactor-netty", ("reactor.netty.",)),
    ("netty", ("io.netty.",)),
    ("logback/slf4j", ("ch.qos.logback.", "org.slf4j.")),
    ("gateway: api", ("io.mlgateway.api.",)),
    ("gateway: regno", ("io.mlgateway.regno.",)),
    ("gateway: rentals", ("io.mlgateway.rentals.",)),
    ("gateway: scoring (batcher)", ("io.mlgateway.scoring.",)),
    ("gateway: modelstore", ("io.mlgateway.modelstore.",)),
    ("gateway: inferencelog", ("io.mlgateway.inferencelog.",)),
    ("catboost (java side)", ("ai.catboost.",)),
    ("xgboost (java side)", ("ml.dmlc.",)),
    ("GC/JIT/other JVM threads", ()),
]

def main():
    jfr = sys.argv[2] if len(sys.argv) > 2 else "jfr"
    out = subprocess.run([jfr, "print", "--stack-depth", "200", "--events", "jdk.ExecutionSample", sys.argv[1]],
                         capture_output=True, text=True, check=True).stdout
    samples = 0
    counts = collections.Counter()
    threads = collections.Counter()
    for event in out.split("jdk.ExecutionSample")[1:]:
        samples += 1
        m = re.search(r'sampledThread = "([^"]*)"', event)
        name = re.sub(r"[-#]?\d+", "", m.group(1)) if m else "?"
        threads[name] += 1
        seen = set()
        for line in event.splitlines():
            line = line.strip()
            for comp, prefixes in COMPONENTS:
                if prefixes and line.startswith(prefixes):
                    seen.add(comp)
        counts.update(seen)
    print(f"{samples} execution samples (Java frames only; time inside native scoring calls is not sampled)")
    print("\ninclusive share by component:")
    for comp, _ in COMPONENTS:
        if counts[comp]:
            print(f"  {100 * counts[comp] / samples:5.1f}%  {comp}")
    print("\nsamples by thread:")
    for t, n in threads.most_common(8):
        print(f"  {100 * n / samples:5.1f}%  {t}")

main()
