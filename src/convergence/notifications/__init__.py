"""The notification centre: what ``core.notify.notify`` stores and delivers, preferences per
category and channel, quiet hours and the daily digest."""
