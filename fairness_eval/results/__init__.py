"""The contract between the stages: what every stage agrees on, at the bottom of the package.

- names.py: the shared names (NOT_ANNOTATED, per-image columns, run-folder files,
  criteria, verdicts and their order).
- labels.py: the group label of each image under an attribute.
- vocabularies.py: the standard attributes' values and what each covers.
- assessment.py, schema.py, provenance.py, conditions_record.py, settings_record.py:
  results.json as frozen records (`ResultsDocument.from_json` is the one checked reader,
  `to_json` the one writer).
- comparison_record.py, model_comparison_record.py: comparison.json as frozen records.
- codec.py: the one reader and writer of every record, driven by the fields' types and
  metadata; reading.py: the checked `Node` it reads through (messages name file and key).
- document.py: assembling, writing and reading a run folder (`build_document`,
  `write_run`, `read_results`, `read_per_image`).

Nothing here imports a stage above it; every stage may import from here.
"""
