"""The feedback service: surveys, their responses and the score histograms metrics read."""

from __future__ import annotations

from rapport.feedback.metrics import daily_score_histograms as daily_score_histograms
from rapport.feedback.metrics import score_histogram as score_histogram
