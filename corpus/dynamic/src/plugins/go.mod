module example.com/dynplug

go 1.19
