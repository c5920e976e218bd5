"""Tools built on the signal methods: batch processing and the demo.

Modules
-------
batch
    Deconvolve many files, one result file each.
demo
    Deconvolve the bundled nanowire and draw its modal evolution.
"""
