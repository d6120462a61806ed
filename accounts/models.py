# Devices for the second factor come from django-otp (TOTP and static recovery codes).
