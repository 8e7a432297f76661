"""Electrochemistry: differentiable JAX simulators of voltammetry and chronoamperometry, kinetics laws, tools.

Importing this package turns on float64 in JAX (``jax_enable_x64``), which the implicit simulator needs for its
exponential kinetics and long time integrations; the setting is process-wide.

Simulator API (SI units, oxidation current positive): :class:`ECParams`, :class:`SimSettings`, :class:`GridSpec`,
:func:`cv_current`, and the waveforms :func:`cv_waveform`, :func:`lsv_waveform`, :func:`step_waveform`,
:func:`uniform_program`.
"""

import jax as _jax

_jax.config.update("jax_enable_x64", True)

from ._grid import GridSpec as GridSpec  # noqa: E402
from ._kinetics import bv_factors as bv_factors  # noqa: E402
from ._kinetics import mhc_factors as mhc_factors  # noqa: E402
from ._kinetics import mhc_quadrature as mhc_quadrature  # noqa: E402
from ._kinetics import mhc_zeng as mhc_zeng  # noqa: E402
from ._peaks import CVPeaks as CVPeaks  # noqa: E402
from ._peaks import Peak as Peak  # noqa: E402
from ._peaks import cv_peaks as cv_peaks  # noqa: E402
from ._peaks import find_peak as find_peak  # noqa: E402
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
