"""The dashboard's pages: each a `render(api)` function, run by Streamlit as a script.

Not named `pages/`: Streamlit would take such a folder for its legacy multipage layout.
"""
