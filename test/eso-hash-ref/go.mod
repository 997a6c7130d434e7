module tessera.local/eso-hash-ref

go 1.26
