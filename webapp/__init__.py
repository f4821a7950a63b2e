"""Offside's Django project and app: settings, models, views, consumers, admin and charts."""
