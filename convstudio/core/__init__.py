"""The headless core of ConvStudio: networks as data, shapes, Keras builds, data, training, export.

Nothing in this package imports Qt; it runs and is tested without a display.
"""
