"""Front ends: the Streamlit app, its figures, share links and the command line."""
