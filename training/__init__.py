"""Offline training: data folder -> evaluated, gated model version in the registry.

`train` runs the stages; `prep` (resolve, split, interactions, snapshot), `items` and
`offers` (the two tasks), `ranker` (the LightGBM rankers both tasks fit), `features`,
`evaluate`, `publish` (artifacts, ONNX, serving files, model card) and `simulate` (the
synthetic retailer). Nothing here imports the CLI; `omnioffer.cli` imports this lazily.
"""
