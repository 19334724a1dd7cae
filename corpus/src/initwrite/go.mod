module example.com/initwrite

go 1.19
