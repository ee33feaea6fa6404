"""Scoring a trained run on the test split.

- ``judge``: the independent classifier of swaps and the FDD features;
- ``metrics``: leakage probes, style consistency, PSNR, Frechet distance (NumPy cores);
- ``disentanglement``: MIG, SAP, DCI, factor R^2 (NumPy cores);
- ``morphometrics``: Morpho-MNIST measurements of digit images;
- ``factors``: factor-level metrics of a run;
- ``evaluate``: ``evaluate_run`` -> metrics.json;
- ``compare``: evaluated runs side by side.
"""
