module snitch

go 1.19
