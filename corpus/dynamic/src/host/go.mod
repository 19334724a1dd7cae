module example.com/dynhost

go 1.19
