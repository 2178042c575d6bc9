"""An independent benchmark of the matching engine.

``bench.generate`` writes realistic, labelled Hungarian and Polish invoices and
bank statements; ``bench.score`` compares ``reconbot reconcile --format json``
results with the labels; ``bench.run`` does both at several sizes and measures
time and memory. Nothing here imports the engine: the data is labelled from
the rules in the issue, never tuned to an implementation.
"""
