"""Subband visibility: band-limited contrast thresholds for the training-free PW-JND predictor.

The pixel-wise JND models of :mod:`jndviewer.core.jnd` give each pixel one threshold whatever the spatial frequency
of the distortion, and know nothing of the viewing distance or of the display's luminance. Pooled
``|distortion| / JND`` therefore ranks images poorly against the human-calibrated reference labels (Spearman 0.13
between the default pixel score at JPEG QF 30 and the label, on 120 BSDS500 training images; this model: 0.6-0.7).
What decides visibility at the picture level is what ColorVideoVDP (the labels' proxy) models: sensitivity per
spatial frequency, its loss at low luminance, and masking by the image's own contrast. This module is a much
simplified, training-free model of those three, on a Laplacian pyramid:

1. **Display.** Gray level ``y`` shows luminance ``L = (L_peak - L_black) (y / 255)^2.2 + L_black``; the defaults are
   cvvdp's ``standard_fhd`` (200 cd/m^2, 1000:1, 250 lux ambient: black level 0.598 cd/m^2, the ``Lblack`` of
   cvvdp's report string).
2. **Band-limited contrast** (Peli, JOSA A 7(10), 1990): a Laplacian pyramid of ``L`` (Burt & Adelson, IEEE TCOM
   31(4), 1983; 5-tap binomial kernel), each band divided by the local mean luminance, i.e. the next coarser
   Gaussian level upsampled: ``C_k = B_k / G_{k+1}``. Band ``k`` is centred on ``f_k = ppd / 2^(k+1)`` cycles per
   degree, so the viewing condition enters here.
3. **Sensitivity** ``S_k = S_peak (f_k / f_peak) exp(1 - f_k / f_peak) (L / (L + L_a))^p``: a band-pass contrast
   sensitivity function peaking at ``f_peak`` (Barten's and Daly's CSFs peak at 2-5 cpd at photopic luminance),
   times the loss of sensitivity at low luminance (the de Vries-Rose to Weber transition), ``L`` the local mean.
4. **Contrast masking** by the reference's local band energy in threshold units ``m_k = sqrt(blur((S_k C_k)^2))``
   (Legge & Foley, JOSA 70(12), 1980, in the threshold-elevation form of Daly's VDP): the threshold contrast is
   ``T_k = (1 + (k_m m_k)^q) / S_k``.
5. **Visibility** per band ``v_k = |C_k(distorted) - C_k(reference)| / T_k``; the pixel map
   ``V = (sum_k up(v_k^beta))^(1/beta)`` (bands upsampled bilinearly), so Minkowski pooling of ``V`` with exponent
   ``beta`` is ``(sum_k mean(v_k^beta))^(1/beta)``.

``S_peak``, ``f_peak``, ``k_m`` and ``q`` were chosen by rank correlation with the reference labels on 120 BSDS500
training images, ``L_a``, ``p`` and ``beta`` by the calibrated predictor's mean absolute error on 200 training images
(README, "Calibration"); Kodak was used for neither. The absolute sensitivity only matters through the masking term:
the decision threshold on the pooled score is calibrated per codec (:mod:`jndviewer.core.pwjnd.calibrate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from jndviewer.core.errors import JndViewerError
from jndviewer.core.jnd import ops
from jndviewer.core.viewing import ViewingCondition

Tensor = torch.Tensor


#: Burt & Adelson's 5-tap binomial generating kernel (a = 0.375).
PYRAMID_TAPS = (1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16)
#: Local mean luminance below which band contrast is not divided further (cd/m^2; below any display's black level).
MIN_MEAN_LUMINANCE = 0.1


@dataclass(frozen=True)
class SubbandParams:
    """Parameters of the subband visibility model (module docstring for the symbols).

    Attributes
    ----------
    peak_luminance, black_luminance, display_gamma
        Display model: cvvdp ``standard_fhd`` (200 cd/m^2, black 0.598 cd/m^2 with 250 lux ambient), gamma 2.2.
    peak_sensitivity, peak_frequency
        ``S_peak`` = 300 and ``f_peak`` = 4 cycles per degree of the band-pass CSF.
    adaptation_luminance, luminance_exponent
        ``L_a`` (cd/m^2) and ``p`` of the low-luminance sensitivity loss ``(L / (L + L_a))^p``.
    masking_gain, masking_exponent
        ``k_m`` = 1 and ``q`` = 0.7 of the threshold elevation.
    lowest_frequency
        The bands reach down to about this frequency (cycles per degree): ``floor(log2(ppd / f))`` bands, whose
        centres are ppd/2, ppd/4, ...; 5 bands (19 to 1.2 cpd) at 38 ppd, 6 at 75 ppd; fewer on small images.
    band_exponent
        ``beta``, with which bands are summed into the pixel map.
    """

    peak_luminance: float = 200.0
    black_luminance: float = 0.598
    display_gamma: float = 2.2
    peak_sensitivity: float = 300.0
    peak_frequency: float = 4.0
    adaptation_luminance: float = 100.0
    luminance_exponent: float = 0.5
    masking_gain: float = 1.0
    masking_exponent: float = 0.7
    lowest_frequency: float = 1.0
    band_exponent: float = 1.0


def display_luminance(luma: Tensor, params: SubbandParams) -> Tensor:
    """Luminance in cd/m^2 that gray levels ``luma`` (0-255) produce on the display."""
    relative = (luma / 255.0).clamp_(0.0, 1.0).pow_(params.display_gamma)
    return relative.mul_(params.peak_luminance - params.black_luminance).add_(params.black_luminance)


def _blur(x: Tensor) -> Tensor:
    return ops.correlate_separable(x, PYRAMID_TAPS, PYRAMID_TAPS, "replicate")


def _upsample(x: Tensor, size: tuple[int, int]) -> Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def band_contrasts(luminance: Tensor, bands: int) -> tuple[list[Tensor], list[Tensor]]:
    """Band-limited contrasts ``C_k`` and local mean luminances of a Laplacian pyramid, finest band first."""
    contrasts, means = [], []
    level = luminance
    for _ in range(bands):
        coarser = _blur(level)[..., ::2, ::2]
        mean = _upsample(coarser, tuple(level.shape[-2:])).clamp_(min=MIN_MEAN_LUMINANCE)
        contrasts.append((level - mean).div_(mean))
        means.append(mean)
        level = coarser
    return contrasts, means


def band_count(height: int, width: int, ppd: float, lowest_frequency: float) -> int:
    """Bands down to ``lowest_frequency`` at ``ppd`` that fit: each coarser level keeps at least 4 pixels per side."""
    wanted = math.floor(math.log2(ppd / lowest_frequency))
    return max(1, min(wanted, int(math.log2(max(1, min(height, width)))) - 2))


class SubbandVisibility:
    """Reference-side state: band contrasts and threshold contrasts of one image; scores distorted versions.

    Parameters
    ----------
    reference_luma
        ``N x 1 x H x W`` luma in gray levels (0-255) of the reference, at the image's own resolution: one image, or
        a batch of same-sized ones scored independently (SG-JND's patches).
    condition
        The viewing condition; its pixels per degree set the bands' frequencies.
    """

    def __init__(
        self, reference_luma: Tensor, condition: ViewingCondition, params: SubbandParams | None = None
    ) -> None:
        if reference_luma.dim() != 4 or reference_luma.shape[1] != 1:
            raise JndViewerError(f"Subband visibility takes N x 1 x H x W luma, not {tuple(reference_luma.shape)}.")
        if not isinstance(condition, ViewingCondition):
            raise TypeError(f"SubbandVisibility takes a ViewingCondition, not {type(condition).__name__}")
        self.params = params or SubbandParams()
        self.condition = condition
        self.ppd = condition.ppd
        self.shape = tuple(reference_luma.shape)
        self.size = self.shape[-2:]
        self.bands = band_count(*self.size, self.ppd, self.params.lowest_frequency)
        p = self.params
        with torch.no_grad():
            contrasts, means = band_contrasts(display_luminance(reference_luma.float(), p), self.bands)
            self.reference_contrasts = contrasts
            self.thresholds = []
            for k, (contrast, mean) in enumerate(zip(contrasts, means, strict=True)):
                sensitivity = self.luminance_factor(mean).mul_(self.band_sensitivity(k))
                energy = _blur((contrast * sensitivity).square_()).sqrt_()
                elevation = energy.mul_(p.masking_gain).pow_(p.masking_exponent).add_(1.0)
                self.thresholds.append(elevation.div_(sensitivity))

    def band_frequency(self, band: int) -> float:
        """Centre frequency of band ``band`` in cycles per degree."""
        return self.ppd / 2.0 ** (band + 1)

    def band_sensitivity(self, band: int) -> float:
        """The CSF's sensitivity at band ``band``'s frequency, before the luminance factor."""
        ratio = self.band_frequency(band) / self.params.peak_frequency
        return self.params.peak_sensitivity * ratio * math.exp(1.0 - ratio)

    def luminance_factor(self, luminance: Tensor) -> Tensor:
        """``(L / (L + L_a))^p``: the share of photopic sensitivity left at local mean luminance ``L``."""
        p = self.params
        return (luminance / (luminance + p.adaptation_luminance)).pow_(p.luminance_exponent)

    def visibility(self, distorted_luma: Tensor) -> Tensor:
        """The pixel map ``V`` (``N x 1 x H x W``) of a distorted version of the reference (batch)."""
        if tuple(distorted_luma.shape) != self.shape:
            raise JndViewerError(
                f"The distorted image ({tuple(distorted_luma.shape)}) does not match the reference ({self.shape})."
            )
        beta = self.params.band_exponent
        with torch.no_grad():
            contrasts, _ = band_contrasts(display_luminance(distorted_luma.float(), self.params), self.bands)
            total: Tensor | None = None
            for contrast, reference, threshold in zip(
                contrasts, self.reference_contrasts, self.thresholds, strict=True
            ):
                band = (contrast - reference).abs_().div_(threshold).pow_(beta)
                band = band if band.shape[-2:] == self.size else _upsample(band, self.size)
                total = band if total is None else total.add_(band)
            assert total is not None
            return total.pow_(1.0 / beta)
