"""Runner-side probes: trusted code that runs inside the untrusted runner, calls the learner's
code and turns what it returns into plain data for the checker. They hold no expected values.
"""
