# Consents arrive with the consent issue; the access policy lives in policy.py.
