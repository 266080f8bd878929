"""argocd: AppProject, Application and ApplicationSet scope rules."""
