# Use a class from a module, reloading the module on every request.
import importlib

import myresource

## Comment out this line when finished debugging
importlib.reload(myresource)

resource = myresource.MyResource()
