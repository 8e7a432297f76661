"""Electrochemistry: differentiable JAX simulators of voltammetry and chronoamperometry, kinetics laws, tools.

Importing this package turns on float64 in JAX (``jax_enable_x64``), which the implicit simulator needs for its
exponential kinetics and long time integrations; the setting is process-wide.

Analysis API (by a second author): :func:`read_voltammogram_file` -> :class:`Voltammogram`; classical analyses
(:func:`randles_sevcik_D`, :func:`nicholson_k0_values`, :func:`tafel_fit`, :func:`cottrell_D`); :func:`fit_cv` and
:func:`compare_cv_models` (gradient / Nelder-Mead / differential evolution, AIC/BIC). Tools: ``read_voltammogram``,
``randles_sevcik``, ``nicholson_k0``, ``tafel_analysis``, ``cottrell_analysis``, ``fit_cv``, ``compare_cv_models``.

Simulator API (SI units, oxidation current positive): :class:`ECParams`, :class:`SimSettings`, :class:`GridSpec`,
:func:`cv_current`, and the waveforms :func:`cv_waveform`, :func:`lsv_waveform`, :func:`step_waveform`,
:func:`uniform_program`; :func:`diffuse_layer_potential` (Gouy–Chapman–Stern phi2 of the Frumkin
correction, on when ``ECParams.c_el`` is set). Tools: ``simulate_cv``, ``simulate_ca``.
"""

import jax as _jax

_jax.config.update("jax_enable_x64", True)

from ._analysis_tools import cottrell_analysis as cottrell_analysis  # noqa: E402
from ._analysis_tools import nicholson_k0 as nicholson_k0  # noqa: E402
from ._analysis_tools import randles_sevcik as randles_sevcik  # noqa: E402
from ._analysis_tools import read_voltammogram as read_voltammogram  # noqa: E402
from ._analysis_tools import tafel_analysis as tafel_analysis  # noqa: E402
from ._classical import cottrell_D as cottrell_D  # noqa: E402
from ._classical import find_cv_peaks as find_cv_peaks  # noqa: E402
from ._classical import nicholson_k0_values as nicholson_k0_values  # noqa: E402
from ._classical import nicholson_psi as nicholson_psi  # noqa: E402
from ._classical import randles_sevcik_D as randles_sevcik_D  # noqa: E402
from ._classical import tafel_fit as tafel_fit  # noqa: E402
from ._double_layer import diffuse_layer_potential as diffuse_layer_potential  # noqa: E402
from ._fit import CVFitResult as CVFitResult  # noqa: E402
from ._fit import ModelComparison as ModelComparison  # noqa: E402
from ._fit import compare_cv_models as compare_cv_models  # noqa: E402
from ._fit import fit_cv as fit_cv  # noqa: E402
from ._fit import simulate_fit as simulate_fit  # noqa: E402
from ._fit_tools import compare_cv_models_tool as compare_cv_models_tool  # noqa: E402
from ._fit_tools import fit_cv_tool as fit_cv_tool  # noqa: E402
from ._grid import GridSpec as GridSpec  # noqa: E402
from ._kinetics import bv_factors as bv_factors  # noqa: E402
from ._kinetics import mhc_factors as mhc_factors  # noqa: E402
from ._kinetics import mhc_quadrature as mhc_quadrature  # noqa: E402
from ._kinetics import mhc_zeng as mhc_zeng  # noqa: E402
from ._peaks import CVPeaks as CVPeaks  # noqa: E402
from ._peaks import Peak as Peak  # noqa: E402
from ._peaks import cv_peaks as cv_peaks  # noqa: E402
from ._peaks import find_peak as find_peak  # noqa: E402
from ._readers import Voltammogram as Voltammogram  # noqa: E402
from ._readers import read_voltammogram_file as read_voltammogram_file  # noqa: E402
from ._sim_tools import simulate_ca as simulate_ca  # noqa: E402
from ._sim_tools import simulate_cv as simulate_cv  # noqa: E402
from ._simulate import ECParams as ECParams  # noqa: E402
from ._simulate import SimSettings as SimSettings  # noqa: E402
from ._simulate import check_params as check_params  # noqa: E402
from ._simulate import cv_current as cv_current  # noqa: E402
from ._units import FARADAY as FARADAY  # noqa: E402
from ._units import GAS_CONSTANT as GAS_CONSTANT  # noqa: E402
from ._waveforms import cv_waveform as cv_waveform  # noqa: E402
from ._waveforms import lsv_waveform as lsv_waveform  # noqa: E402
from ._waveforms import step_waveform as step_waveform  # noqa: E402
from ._waveforms import uniform_program as uniform_program  # noqa: E402
