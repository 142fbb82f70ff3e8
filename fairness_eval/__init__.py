"""fairness-eval: evidence that a person-segmentation model works equally well for everyone.

Data flows one way: config -> dataset -> inference -> metrics -> stats -> fairness ->
results -> reporters. Each stage is a plain module usable from a notebook; the CLI in
`fairness_eval.cli` is a thin shell over them.
"""

__version__ = "0.1.0"
