print("tt")
