"""The interactive terminal UI (Textual): it renders the loop's events and drives the Session API.

Build the app with `lingcode.ui.app.create_app`; styles live beside it in `app.tcss`.
"""
