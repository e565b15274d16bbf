"""Agency seal and personal signing certificates, issued by the (simulated) government PKI."""
