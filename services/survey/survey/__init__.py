"""Survey: follow-up visits (回访), satisfaction surveys and home visits (走访)."""
