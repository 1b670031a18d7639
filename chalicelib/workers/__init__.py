"""The entry code of the Lambdas that are not HTTP: the table stream's deliverer and the scheduler (api/ is the HTTP
one). Like api/, it sits above services/ and reaches delivery through chalicelib.composition."""
