module example.com/exe

go 1.19
