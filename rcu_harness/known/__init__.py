"""Known kernel findings: the catalogue and the candidate fixes.

:mod:`.catalogue` lists the real kernel bugs the faithful model exhibits
(like syzbot's list of known crashes): a signature rule, what the bug is,
the kernel versions, how it was confirmed and the candidate fix.  Campaigns
report a finding that matches an entry as *known*; ``--strict`` treats it
as new.  :mod:`.fixes` holds each candidate fix twice, as a patch of the
model (applied for a run like a mutant, never in ``maple/`` itself) and as
a text patch of ``lib/maple_tree.c`` (built into an oracle variant).
"""
