"""Electrochemistry: differentiable JAX simulators of voltammetry and chronoamperometry, kinetics laws, tools.

The implicit simulator needs float64 in JAX (``jax_enable_x64``) for its exponential kinetics and long time
integrations; :mod:`labwright.tools` turns it on process-wide (``tools/_runtime.py``) before this package is imported.

Analysis API (by a second author): :func:`read_voltammogram_file` -> :class:`Voltammogram`; classical analyses
(:func:`randles_sevcik_D`, :func:`nicholson_k0_values`, :func:`tafel_fit`, :func:`cottrell_D`); the double-layer
charging baseline :func:`capacitive_baseline` (also ``cv_peaks(..., baseline="capacitive")``); :func:`fit_cv` and
:func:`compare_cv_models` (gradient / Nelder-Mead / differential evolution, AIC/BIC). Tools: ``read_voltammogram``,
``randles_sevcik``, ``nicholson_k0``, ``tafel_analysis``, ``cottrell_analysis``, ``fit_cv``, ``compare_cv_models``.

Simulator API (SI units, oxidation current positive): :class:`ECParams`, :class:`SimSettings`, :class:`GridSpec`,
:func:`cv_current`, :func:`adsorbed_cv_current` (a surface-confined couple, Laviron), and the waveforms
:func:`cv_waveform`, :func:`lsv_waveform`, :func:`step_waveform`, :func:`uniform_program`;
:func:`diffuse_layer_potential` (Gouy–Chapman–Stern phi2 of the Frumkin correction, on when ``ECParams.c_el`` is
set). Tools: ``simulate_cv``, ``simulate_ca``.
"""

from .. import _runtime as _runtime  # noqa: F401  (JAX process settings before this package runs JAX)
from ._adsorbed import adsorbed_cv_current as adsorbed_cv_current
from ._analysis_tools import cottrell_analysis as cottrell_analysis
from ._analysis_tools import nicholson_k0 as nicholson_k0
from ._analysis_tools import randles_sevcik as randles_sevcik
from ._analysis_tools import read_voltammogram as read_voltammogram
from ._analysis_tools import tafel_analysis as tafel_analysis
from ._baseline import CapacitiveBaseline as CapacitiveBaseline
from ._baseline import capacitive_baseline as capacitive_baseline
from ._classical import cottrell_D as cottrell_D
from ._classical import find_cv_peaks as find_cv_peaks
from ._classical import nicholson_k0_values as nicholson_k0_values
from ._classical import nicholson_psi as nicholson_psi
from ._classical import randles_sevcik_D as randles_sevcik_D
from ._classical import tafel_fit as tafel_fit
from ._double_layer import diffuse_layer_potential as diffuse_layer_potential
from ._fit import CVFitResult as CVFitResult
from ._fit import ModelComparison as ModelComparison
from ._fit import compare_cv_models as compare_cv_models
from ._fit import fit_cv as fit_cv
from ._fit import simulate_fit as simulate_fit
from ._fit_tools import compare_cv_models_tool as compare_cv_models_tool
from ._fit_tools import fit_cv_tool as fit_cv_tool
from ._grid import GridSpec as GridSpec
from ._kinetics import bv_factors as bv_factors
from ._kinetics import mhc_factors as mhc_factors
from ._kinetics import mhc_quadrature as mhc_quadrature
from ._kinetics import mhc_zeng as mhc_zeng
from ._peaks import CVPeaks as CVPeaks
from ._peaks import Peak as Peak
from ._peaks import cv_peaks as cv_peaks
from ._peaks import find_peak as find_peak
from ._readers import Voltammogram as Voltammogram
from ._readers import read_voltammogram_file as read_voltammogram_file
from ._sim_tools import simulate_ca as simulate_ca
from ._sim_tools import simulate_cv as simulate_cv
from ._simulate import ECParams as ECParams
from ._simulate import SimSettings as SimSettings
from ._simulate import check_params as check_params
from ._simulate import cv_current as cv_current
from ._units import FARADAY as FARADAY
from ._units import GAS_CONSTANT as GAS_CONSTANT
from ._waveforms import cv_waveform as cv_waveform
from ._waveforms import lsv_waveform as lsv_waveform
from ._waveforms import step_waveform as step_waveform
from ._waveforms import uniform_program as uniform_program
