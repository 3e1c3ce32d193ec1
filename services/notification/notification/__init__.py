"""Notification: messages to owners about their requests, work orders and charges."""
