# Models of this app are added by the issue that builds it.
