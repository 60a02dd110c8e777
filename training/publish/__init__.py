"""Publishing a model version: artifacts, ONNX export, the serving files, the model card."""
