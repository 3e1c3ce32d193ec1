"""Survey: follow-up visits (回访) after completed work orders."""
