from ioffice import create_app

app = create_app()
