"""Portal pages: the dashboard and favourites, the "Gestion des comptes" hub."""
