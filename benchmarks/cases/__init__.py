"""Benchmark cases: each module exposes ``run(smoke: bool) -> list[Row]``.

``benchmarks/run.py`` imports every module here (names not starting with ``_``). A module may
also expose ``CASES``, a dict from case name to ``fn(smoke) -> list[Row]``, so that
``run.py --only NAME`` runs one case without the others. Rows name their baseline impl (torch
unless a case says otherwise); ``Row.extra`` may carry ``target_ratio`` (the ratio to the
baseline must not exceed it), ``target_value`` (the value must not exceed it) and ``target``
(the text shown in the table). Peers that are not installed are skipped, never faked.
"""
