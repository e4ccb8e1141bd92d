"""The Qt desktop views of ConvStudio: thin widgets over the headless core.

Importing this package pulls in no TensorFlow or Keras; the app loads them in the background
(see :mod:`convstudio.ui.tf_loader`) so the window shows at once.
"""
