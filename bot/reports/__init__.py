"""Reports people would rather look at: chart data (series), drawing (render), workers (pool)."""
